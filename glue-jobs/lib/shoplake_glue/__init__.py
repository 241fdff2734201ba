"""PLACEHOLDER until helper h9's shoplake_glue package lands in main (GLUE-CONTRACT.md).

CDK zips glue-jobs/lib into the jobs' --extra-py-files; this stand-in only gives the asset a
package to contain.
"""
