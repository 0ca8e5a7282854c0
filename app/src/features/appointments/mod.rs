//! The front desk's appointments (issue 8): the day view per doctor, booking
//! from free slots, walk-ins with their token, status changes, and each
//! doctor's token queue.

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
    pub const QUEUE_EMPTY: &str =
        "No tokens yet today. Mark arrivals or walk-ins on the appointments page.";
}
