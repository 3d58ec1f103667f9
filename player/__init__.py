"""The Qt/libmpv player: drives `abr.session` with real HTTP and libmpv (issue 4)."""
