"""caseledger's domain: referrals and suppliers as event-sourced aggregates.

Plain Python: the standard library and ``eventsourcing.domain`` only.

A command is a public method that checks its rules and records its event with the library's
``trigger_event``, and a private ``@event`` method that assigns state from that event (again on every
replay). The ``@event`` method names only the fields it assigns: the library hands it those of the
event's fields, so the event's fields are written once, on the event class.
"""
