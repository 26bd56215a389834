"""caseledger's domain: referrals and suppliers as event-sourced aggregates.

Plain Python: the standard library and ``eventsourcing.domain`` only.
"""
