"""Read models built from the notification log (see issue 3)."""
