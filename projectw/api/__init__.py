"""HTTP routers: thin edges that parse, authorize, call a service and shape the answer."""
