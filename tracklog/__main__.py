"""`python -m tracklog` runs the command line."""

from tracklog.cli import main

main()
