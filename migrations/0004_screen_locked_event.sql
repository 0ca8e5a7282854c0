-- The idle lock screen ends a session: log it as what it is, not as a sign-out.
ALTER TABLE clinic.login_events DROP CONSTRAINT login_events_outcome_check;
ALTER TABLE clinic.login_events ADD CONSTRAINT login_events_outcome_check CHECK (outcome IN (
    'password_ok', 'password_failed', 'throttled', 'locked',
    'totp_ok', 'totp_failed', 'recovery_code_used', 'totp_enrolled',
    'password_changed', 'password_reset', 'signed_out', 'signed_out_everywhere', 'unlocked',
    'screen_locked'));
