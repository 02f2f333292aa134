"""Importing this module readies a fork server for task tries: it imports
what windsock_rt.execute needs (jinja2 and its compiler, pendulum,
airflow.macros, the operators) once, in the server, so that each forked try
starts with them loaded. Name it in pyrt.Config.Preload."""

from windsock_rt import execute

execute.warm()
