"""Audit: what lets an auditor trust the store without trusting its operator. The hash chains
recomputed (``chain``; the recorders link them, ``application.storage.chain_links``), signed receipts
of the chain's head (``receipts``, with ``signing_key``), a referral's decision trail (``trail``) and
the auditor's reads composing them (``integrity``)."""
