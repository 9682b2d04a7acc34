#!/usr/bin/env python
from cocm.cli import main

if __name__ == "__main__":
    main()
