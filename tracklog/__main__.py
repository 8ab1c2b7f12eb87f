"""`python -m tracklog` runs the command line."""

from tracklog.cli.main import main

main()
