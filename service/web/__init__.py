"""HTTP glue: blueprints that parse a request, call one domain function and serialize."""
