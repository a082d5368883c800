"""The sandbox over HTTP: the FastAPI app factory, routes, the traffic middleware and serving.

Routes parse, make one store call and serialise; the one exception handler renders the state's
domain errors. FastAPI and uvicorn are imported only here.
"""
