"""`python -m benchmarks`: the performance suite (same as `keras-components bench`).

The suite itself lives in `keras_components/bench/` so that an installed
package can run it too; this entry point is for a source checkout.
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from keras_components.bench import main

sys.exit(main(sys.argv[1:]))
