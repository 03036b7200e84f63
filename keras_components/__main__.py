"""`python -m keras_components ...` is the `keras-components` command."""

import sys

from keras_components.cli import main

sys.exit(main())
