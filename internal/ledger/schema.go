package ledger

import (
	"fmt"
	"strconv"

	bolt "go.etcd.io/bbolt"
)

// initSchema creates the buckets of a new ledger, or checks an existing
// one's schema.
func initSchema(tx *bolt.Tx) error {
	meta := tx.Bucket([]byte(bucketMeta))
	if meta == nil {
		for _, name := range allBuckets() {
			if tx.Bucket([]byte(name)) != nil {
				return fmt.Errorf("%w: bucket %q without a schema version", ErrSchema, name)
			}
		}
		for _, name := range allBuckets() {
			if _, err := tx.CreateBucket([]byte(name)); err != nil {
				return fmt.Errorf("create bucket %q: %w", name, err)
			}
		}
		return tx.Bucket([]byte(bucketMeta)).Put([]byte(keySchema), []byte(strconv.Itoa(schemaVersion)))
	}
	return checkSchema(tx)
}

func checkSchema(tx *bolt.Tx) error {
	meta := tx.Bucket([]byte(bucketMeta))
	if meta == nil {
		return fmt.Errorf("%w: not a campaignd ledger (no schema version)", ErrSchema)
	}
	v := string(meta.Get([]byte(keySchema)))
	if v != strconv.Itoa(schemaVersion) {
		return fmt.Errorf("%w: file has version %q, this build reads %d", ErrSchema, v, schemaVersion)
	}
	for _, name := range allBuckets() {
		if tx.Bucket([]byte(name)) == nil {
			return fmt.Errorf("%w: bucket %q missing", ErrSchema, name)
		}
	}
	return nil
}
