package ledger

import (
	"fmt"
	"strconv"

	bolt "go.etcd.io/bbolt"
)

// addedBuckets are buckets added to schema 2 after ledgers of that schema
// were written. They need no conversion: a writable Open creates the ones
// a file lacks, a read-only Open of such a file reads each as empty, and a
// build from before them opens a file that has them (it checks only the
// buckets it knows), so the schema version stays 2.
func addedBuckets() []string {
	return []string{bucketFetch}
}

// initSchema creates the buckets of a new ledger, or checks an existing
// one's schema and gives it the added buckets it lacks.
func initSchema(tx *bolt.Tx) error {
	meta := tx.Bucket([]byte(bucketMeta))
	if meta == nil {
		for _, name := range append(allBuckets(), addedBuckets()...) {
			if tx.Bucket([]byte(name)) != nil {
				return fmt.Errorf("%w: bucket %q without a schema version", ErrSchema, name)
			}
		}
		for _, name := range append(allBuckets(), addedBuckets()...) {
			if _, err := tx.CreateBucket([]byte(name)); err != nil {
				return fmt.Errorf("create bucket %q: %w", name, err)
			}
		}
		return tx.Bucket([]byte(bucketMeta)).Put([]byte(keySchema), []byte(strconv.Itoa(schemaVersion)))
	}
	if err := checkSchema(tx); err != nil {
		return err
	}
	for _, name := range addedBuckets() {
		if _, err := tx.CreateBucketIfNotExists([]byte(name)); err != nil {
			return fmt.Errorf("create bucket %q: %w", name, err)
		}
	}
	return nil
}

// checkSchema checks the schema version and the buckets every ledger of
// it has (not the added ones).
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
