"""One module per CRM export format; each declares the raw tables its files land in."""
