"""caseledger's HTTP API and command line: translation of HTTP to commands, errors to problem+json."""
