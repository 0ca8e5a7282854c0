//! The front desk's appointments (issue 8): the day view per doctor, booking
//! from free slots, walk-ins with their token, status changes and
//! rescheduling, leave and holidays, each doctor's token queue, a printable
//! day sheet and the "patients seen" report.

pub mod api;
pub mod dto;
pub mod pages;

/// The pages' words, in one place for translation.
pub mod text {
    pub const TITLE: &str = "Appointments";
    pub const QUEUE_TITLE: &str = "Today's queue";
    pub const ALL_DOCTORS: &str = "All doctors";
    pub const NO_APPOINTMENTS: &str =
        "No appointments or walk-ins on this day. Book one below, or register a walk-in.";
    pub const NO_SLOTS: &str =
        "No slots on this day: the doctor has no hours, is away, or it is a holiday. Choose another day or doctor.";
    pub const CHOOSE_DOCTOR: &str = "Choose a doctor to see the free slots.";
    pub const CHOOSE_PATIENT: &str = "Search by MR number or name, then choose the patient.";
    pub const CHOOSE_SLOT: &str = "Choose a free slot first.";
    pub const CANCEL_REASON: &str = "Reason for cancelling";
    pub const NOBODY_WAITING: &str = "Nobody is waiting. New arrivals appear here by themselves.";
    pub const HOURS_TITLE: &str = "Doctor's weekly hours";
    pub const HOURS_HINT: &str =
        "Saving replaces the doctor's weekly hours with these on the ticked days; booked appointments stay.";
    pub const HOURS_SAVED: &str = "Hours saved. The free slots follow them from now on.";
    pub const HOURS_LOADED: &str = "These are the doctor's current hours.";
    pub const HOURS_NONE: &str =
        "This doctor has no weekly hours yet: tick the days they see patients.";
    pub const HOURS_DIFFER: &str =
        "This doctor's hours differ by day; saving replaces them with one block on the ticked days";
    pub const LEAVE_TITLE: &str = "Leave and holidays";
    pub const LEAVE_HINT: &str =
        "Leave blocks one doctor's slots; a holiday (no doctor chosen) blocks the whole clinic. Existing bookings stay: move or cancel them.";
    pub const WHOLE_CLINIC: &str = "Whole clinic (holiday)";
    pub const NO_LEAVE: &str = "No leave or holidays ahead.";
    pub const LEAVE_ADDED: &str = "Added. Those days have no free slots now.";
    pub const WITHDRAW_CONFIRM: &str = "Withdraw this? Its days become bookable again.";
    pub const WITHDRAWN: &str = "Withdrawn. Its days are bookable again.";
    pub const DAY_SHEET_TITLE: &str = "Day sheet";
    pub const NO_SHOWS: &str = "No-shows";
    pub const NO_NO_SHOWS: &str = "No no-shows on this day.";
    pub const REPORT_TITLE: &str = "Patients seen";
    pub const REPORT_HINT: &str =
        "Per doctor per day: appointments and walk-ins that ended done, no-show or cancelled.";
    pub const REPORT_EMPTY: &str = "Nothing done, missed or cancelled in these days.";
    pub const QUEUE_EMPTY: &str =
        "No tokens yet today. Mark arrivals or walk-ins on the appointments page.";
}
