"""Request and response models of the HTTP API (its OpenAPI schemas).

They are the API's own, not the workflows' command models: the public contract stays put
while the commands behind it evolve.
"""
