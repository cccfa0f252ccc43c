"""``python -m kexue`` is the same as the ``kexue`` command."""

from .cli import main

main()
