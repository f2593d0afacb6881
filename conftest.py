# nameko's runtime is eventlet: patch before anything imports socket or threading.
import eventlet

eventlet.monkey_patch()
