"""streamlab: the application layer (command line) over abr/, simulator/, traces/, player/, backend_stub/."""
