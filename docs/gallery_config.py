"""Settings of the example gallery (imported by ``docs/conf.py``).

Every ``examples/plot_*.py`` runs in the gallery with its own defaults,
which are sized to take about a minute on 2 cores. ``GALLERY_ARGV`` gives an
example command-line flags for the gallery only, for an example whose
defaults are heavier than the docs build can afford (the build's
``auto_examples/sg_execution_times`` page lists the time of each example).
"""

import os

# Measured in the docs build on a shared 2-core machine (load 5-6): plot_greedy_nets
# 176 s and plot_deconvolution 124 s with their defaults; the budget of the whole
# docs build is 8 minutes. With these settings: 44 s and 53 s (load 4), whole build 7 min 26 s. The user guide's captions of gallery figures name these
# settings.
GALLERY_ARGV = {
    "plot_greedy_nets.py": ["--n-train", "128", "--n-test", "128"],
    "plot_deconvolution.py": ["--n-runs", "10"],
}


def reset_argv(gallery_conf, script_vars):
    """``sys.argv[1:]`` of an example run by sphinx-gallery."""
    return list(GALLERY_ARGV.get(os.path.basename(script_vars["src_file"]), []))
