"""``python -m imsvalog``"""

from imsvalog_launcher import main

if __name__ == "__main__":
    main()
