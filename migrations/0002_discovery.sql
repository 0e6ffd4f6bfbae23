CREATE INDEX "bidding_sessions_starts_at_idx" ON "bidding_sessions" USING btree ("starts_at","id");--> statement-breakpoint
CREATE INDEX "bidding_sessions_ends_at_idx" ON "bidding_sessions" USING btree ("ends_at","id");--> statement-breakpoint
CREATE INDEX "bidding_sessions_created_at_idx" ON "bidding_sessions" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "bids_user_placed_at_idx" ON "bids" USING btree ("user_id","placed_at","session_id");