package statebackend

import (
	"errors"
	"sync"

	"github.com/dgraph-io/badger/v4"
)

// committer writes entries in transactions of at most applyChunk entries, each committed
// asynchronously as soon as it is full.
type committer struct {
	db  *badger.DB
	txn *badger.Txn
	n   int // entries in txn

	wg   sync.WaitGroup
	mu   sync.Mutex
	errs []error // of the commits done so far
}

func newCommitter(db *badger.DB) *committer {
	return &committer{db: db, txn: db.NewTransaction(true)}
}

// add writes e (a delete of e.Key when del) into the current transaction, first committing
// it when it is full.
func (c *committer) add(e *badger.Entry, del bool) error {
	if c.n == applyChunk {
		c.commit()
	}
	err := c.set(e, del)
	if errors.Is(err, badger.ErrTxnTooBig) && c.n > 0 {
		c.commit()
		err = c.set(e, del)
	}
	if err != nil {
		return err
	}
	c.n++
	return nil
}

func (c *committer) set(e *badger.Entry, del bool) error {
	if del {
		return c.txn.Delete(e.Key)
	}
	return c.txn.SetEntry(e)
}

// commit sends the current transaction to Badger's writer and starts a new one. The new one
// is opened first: opening a transaction waits until every commit before it is in the
// memtable, so opened after the commit it would wait for that very commit and the chunks would
// be written one after the other; opened before, it waits only for the previous chunk's, and
// the caller fills it while Badger writes this one.
func (c *committer) commit() {
	next := c.db.NewTransaction(true)
	c.wg.Add(1)
	c.txn.CommitWith(func(err error) {
		if err != nil {
			c.mu.Lock()
			c.errs = append(c.errs, err)
			c.mu.Unlock()
		}
		c.wg.Done()
	})
	c.txn, c.n = next, 0
}

// wait commits what is left and waits for every commit; it returns their errors.
func (c *committer) wait() error {
	if c.n > 0 {
		c.commit()
	}
	c.txn.Discard()
	c.wg.Wait()
	return errors.Join(c.errs...)
}
