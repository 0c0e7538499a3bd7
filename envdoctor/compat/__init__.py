"""The one place that answers compatibility questions: which CUDA a driver runs, which GPU an NVML
name is, which builds a release has and what they run on. check's rules and fix's resolver both ask
here, so the two cannot disagree."""
