"""``python -m infogan_kit`` runs the ``infogan`` command line."""

from infogan_kit.cli import main

if __name__ == "__main__":
    main()
