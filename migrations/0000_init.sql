CREATE TABLE "bid_events" (
	"session_id" uuid NOT NULL,
	"seq" bigint NOT NULL,
	"user_id" bigint NOT NULL,
	"amount" bigint NOT NULL,
	"placed_at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "bid_events_session_id_seq_key" UNIQUE("session_id","seq")
);
--> statement-breakpoint
CREATE TABLE "bidding_sessions" (
	"id" uuid PRIMARY KEY NOT NULL,
	"title" text NOT NULL,
	"starts_at" timestamp (3) with time zone NOT NULL,
	"ends_at" timestamp (3) with time zone NOT NULL,
	"min_bid" bigint NOT NULL,
	"min_increment" bigint NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "bidding_sessions_window" CHECK ("bidding_sessions"."ends_at" > "bidding_sessions"."starts_at"),
	CONSTRAINT "bidding_sessions_min_bid" CHECK ("bidding_sessions"."min_bid" >= 1),
	CONSTRAINT "bidding_sessions_min_increment" CHECK ("bidding_sessions"."min_increment" >= 1)
);
--> statement-breakpoint
CREATE TABLE "bids" (
	"session_id" uuid NOT NULL,
	"user_id" bigint NOT NULL,
	"amount" bigint NOT NULL,
	"seq" bigint NOT NULL,
	"bid_count" integer NOT NULL,
	"placed_at" timestamp (3) with time zone NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "bids_session_id_user_id_key" UNIQUE("session_id","user_id")
);
--> statement-breakpoint
CREATE TABLE "users" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "users_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"username" text NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "users_username_key" UNIQUE("username")
);
--> statement-breakpoint
ALTER TABLE "bid_events" ADD CONSTRAINT "bid_events_session_id_bidding_sessions_id_fk" FOREIGN KEY ("session_id") REFERENCES "public"."bidding_sessions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bid_events" ADD CONSTRAINT "bid_events_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bids" ADD CONSTRAINT "bids_session_id_bidding_sessions_id_fk" FOREIGN KEY ("session_id") REFERENCES "public"."bidding_sessions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bids" ADD CONSTRAINT "bids_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "bid_events_user_idx" ON "bid_events" USING btree ("session_id","user_id");--> statement-breakpoint
CREATE INDEX "bids_leaderboard_idx" ON "bids" USING btree ("session_id","amount" DESC NULLS LAST,"seq");