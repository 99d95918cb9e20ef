"""The gamelift-backfill policy pack (see __main__.py); a package so tools tell it apart."""
