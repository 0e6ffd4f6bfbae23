CREATE TABLE "session_results" (
	"session_id" uuid NOT NULL,
	"rank" integer NOT NULL,
	"user_id" bigint NOT NULL,
	"amount" bigint NOT NULL,
	"seq" bigint NOT NULL,
	CONSTRAINT "session_results_pkey" PRIMARY KEY("session_id","rank")
);
--> statement-breakpoint
ALTER TABLE "bid_events" ADD COLUMN "auto" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "bidding_sessions" ADD COLUMN "units" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "bidding_sessions" ADD COLUMN "reserve_price" bigint;--> statement-breakpoint
ALTER TABLE "bidding_sessions" ADD COLUMN "soft_close_window_seconds" integer;--> statement-breakpoint
ALTER TABLE "bidding_sessions" ADD COLUMN "soft_close_extend_seconds" integer;--> statement-breakpoint
ALTER TABLE "bidding_sessions" ADD COLUMN "hard_ends_at" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "bidding_sessions" ADD COLUMN "scheduled_ends_at" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "bidding_sessions" ADD COLUMN "extensions" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "bidding_sessions" ADD COLUMN "closed_at" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "bidding_sessions" ADD COLUMN "final_seq" bigint;--> statement-breakpoint
ALTER TABLE "bids" ADD COLUMN "max_amount" bigint;--> statement-breakpoint
ALTER TABLE "session_results" ADD CONSTRAINT "session_results_session_id_bidding_sessions_id_fk" FOREIGN KEY ("session_id") REFERENCES "public"."bidding_sessions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "session_results" ADD CONSTRAINT "session_results_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bidding_sessions" ADD CONSTRAINT "bidding_sessions_units" CHECK ("bidding_sessions"."units" BETWEEN 1 AND 1000);