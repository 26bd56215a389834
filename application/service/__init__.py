"""The service: commands and the reads by id, version and instant.

``caseledger`` (the eventsourcing ``Application``, composing the rooms below it), ``commands`` (every
write command, declared once), ``write_path`` (load, decide, save with claims), ``batch`` (many
commands in one session), ``context`` (what comes with a write besides its body),
``kept_aggregates`` and ``replay`` (aggregates kept between batches and rebuilt from their events),
``transcodings`` (the event field types the JSON transcoder does not know). The service imports
``audit``, ``privacy`` and ``storage``; none of them imports it.
"""
