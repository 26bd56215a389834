"""caseledger's application layer: the eventsourcing Application that composes the domain."""
