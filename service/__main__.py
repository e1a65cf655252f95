"""`python -m service` is the `kommentera` command."""

from service.cli import main

main()
