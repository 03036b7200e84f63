"""`python -m benchmarks ARGS` is `keras-components bench ARGS`.

For example `python -m benchmarks --rounds 41` (every timing suite),
`python -m benchmarks losses --quick`, or `python -m benchmarks claims`
(Keras's value, ours and a reference for each documented claim).

The suite itself lives in `keras_components/bench/` so that an installed
package can run it too; this entry point is for a source checkout. It goes
through the command line's entry module, which sets TensorFlow's log level
before TensorFlow is imported.
"""

import sys

from keras_components_cli import main

sys.exit(main(["bench", *sys.argv[1:]]))
