"""`envdoctor fit`: will a model fit, and how: the calculator (calc.py), the model config and hub (model_config.py, hub.py), the glue to facts (sizing.py)."""
