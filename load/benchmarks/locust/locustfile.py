# The reference system's load test, as its document runs it
# (locust --users=1000 --spawn-rate=50), against any server of the contract:
# each simulated user is one bidder who raises their own bid and reads the
# leaderboard. The reference's locustfile is not in its document; this one
# does what the document says it does. npm run bench:locust writes the
# fixture (LOCUST_FIXTURE: the session and one token per bidder) and runs it.
import itertools
import json
import os

from locust import HttpUser, between, task

with open(os.environ["LOCUST_FIXTURE"]) as fixture_file:
    FIXTURE = json.load(fixture_file)
SESSION = FIXTURE["sessionId"]
MIN_BID = FIXTURE["minBid"]
MIN_INCREMENT = FIXTURE["minIncrement"]
BIDDERS = itertools.cycle(FIXTURE["bidders"])


class Bidder(HttpUser):
    wait_time = between(1, 5)

    def on_start(self):
        bidder = next(BIDDERS)
        self.headers = {"Authorization": f"Bearer {bidder['token']}"}
        self.amount = MIN_BID

    @task(3)
    def place_bid(self):
        with self.client.post(
            f"/v1/sessions/{SESSION}/bids",
            json={"amount": self.amount},
            headers=self.headers,
            name="POST /v1/sessions/[id]/bids",
            catch_response=True,
        ) as response:
            if response.status_code == 201:
                self.amount += MIN_INCREMENT
                response.success()
            else:
                response.failure(f"{response.status_code}: {response.text[:200]}")

    @task(1)
    def read_leaderboard(self):
        self.client.get(
            f"/v1/sessions/{SESSION}/leaderboard?limit=50",
            name="GET /v1/sessions/[id]/leaderboard",
        )
