"""Personal data at rest: the master key, envelopes per field, citizens' data keys and their
erasure (see ``application.privacy.envelopes`` for the scheme). The keys are stored by
``application.storage.citizen_keys``."""
