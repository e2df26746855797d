-- A prebuttal: a response stated before the claim it answers, made on purpose (a party answering what it expects
-- the other to say). Only a link marked so may join a response to a claim stated after it.
ALTER TABLE links ADD COLUMN prebuttal boolean NOT NULL DEFAULT false;
