# nameko's runtime is eventlet: patch before anything imports socket or threading.
import eventlet

eventlet.monkey_patch()

# The suite's own RabbitMQ node (tests/suitebroker.py) starts now, before the test
# modules read MAILLAGE_TEST_AMQP_HOST, and is ready before the first test runs.
from tests import suitebroker  # noqa: E402

suitebroker.start()


def pytest_collection_finish(session):
    suitebroker.wait()


def pytest_unconfigure(config):
    suitebroker.stop()
