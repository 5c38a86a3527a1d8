package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"sync"
)

// stmtCache keeps prepared statements of the pool, by query text. A
// statement is prepared on a connection the first time a transaction on
// that connection uses it, and stays prepared there: SQLite then parses a
// statement once per connection instead of once per call. (pgx caches
// prepared statements by itself.)
type stmtCache struct {
	mu    sync.Mutex
	m     map[string]*sql.Stmt
	ready bool // the trail's statements are in m
}

// stmt returns query prepared on the pool, or for tx (a statement closed
// with tx) if tx is not nil. A statement missing from the cache is
// prepared on tx alone, not cached: preparing it on the pool could wait
// for the very connection tx holds (an in-memory database has only one).
func (s *Store) stmt(ctx context.Context, tx *sql.Tx, query string) (*sql.Stmt, error) {
	s.stmts.mu.Lock()
	st, ok := s.stmts.m[query]
	s.stmts.mu.Unlock()
	switch {
	case ok && tx == nil:
		return st, nil
	case ok:
		return tx.StmtContext(ctx, st), nil
	case tx != nil:
		return tx.PrepareContext(ctx, query)
	}
	st, err := s.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	s.stmts.mu.Lock()
	defer s.stmts.mu.Unlock()
	if prev, ok := s.stmts.m[query]; ok {
		_ = st.Close()
		return prev, nil
	}
	if s.stmts.m == nil {
		s.stmts.m = map[string]*sql.Stmt{}
	}
	s.stmts.m[query] = st
	return st, nil
}

// prepareTrail puts the trail's SQLite statements in the cache, once
// (outside any transaction, see stmt).
func (s *Store) prepareTrail(ctx context.Context) error {
	s.stmts.mu.Lock()
	ready := s.stmts.ready
	s.stmts.mu.Unlock()
	if ready || s.dialect == dialectPostgres {
		return nil
	}
	for _, q := range sqliteTrailStatements() {
		if _, err := s.stmt(ctx, nil, q); err != nil {
			return err
		}
	}
	s.stmts.mu.Lock()
	s.stmts.ready = true
	s.stmts.mu.Unlock()
	return nil
}

// close closes the cached statements.
func (c *stmtCache) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for q, st := range c.m {
		errs = append(errs, st.Close())
		delete(c.m, q)
	}
	c.ready = false
	return errors.Join(errs...)
}
