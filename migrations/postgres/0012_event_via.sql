-- Through what each event came (web, api, email, scheduler, sender, command line), for the
-- audit trail compliance staff read on a complaint. Beside the hashed event, not in it: it
-- says how the event arrived. NULL for events recorded before it was kept (and seed data).
-- Forward-only, like every migration; the same on both backends.
ALTER TABLE events ADD COLUMN via TEXT;
