ALTER TABLE "bid_events" ADD COLUMN "bidder" text;--> statement-breakpoint
ALTER TABLE "bid_events" ADD COLUMN "hash" text;