"""PLACEHOLDER until helper h9's Glue 5.0 entry point lands in main (GLUE-CONTRACT.md).

CDK ships this file as the extract jobs' script asset; this stand-in only exists so that a
stage with sources synthesizes. It refuses to run rather than pretend to extract anything.
"""

import sys

sys.exit("glue-jobs/extract_job.py is a placeholder: the real extract job has not been merged yet")
