-- Links recorded before the time order was a rule, whose responding claim was stated before the claim it answers,
-- are marked as prebuttals, in a new version of each: every stored link then keeps the rule, and an export of
-- them imports again. Their times were all to the second, so a response is earlier when its second had ended by
-- the time the answered claim was stated.
UPDATE links SET prebuttal = true, version = version + 1, updated_at = now()
WHERE from_claim_stated_at + interval '1 second' <= to_claim_stated_at;
