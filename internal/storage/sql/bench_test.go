package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/realname/realname/internal/realname"
)

func BenchmarkUserRecord(b *testing.B) {
	for name, url := range backends(b) {
		b.Run(name, func(b *testing.B) {
			s := openMigrated(b, url(b))
			ctx := context.Background()
			u := realname.UserRecord{UserID: "user-1", PersonID: "pn_1", CertifyID: "vf_1",
				Status: realname.StatusSuccess, Evidence: realname.EvidenceFace,
				VerifiedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}
			if err := s.InTx(ctx, func(tx realname.Tx) error { return tx.PutUserRecord(ctx, u) }); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := s.UserRecord(ctx, u.UserID); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

func BenchmarkInTxUpdateVerification(b *testing.B) {
	for name, url := range backends(b) {
		b.Run(name, func(b *testing.B) {
			s := openMigrated(b, url(b))
			ctx := context.Background()
			now := time.Now()
			v := realname.Verification{CertifyID: "vf_bench", UserID: "user-1", PersonID: "pn_1",
				Provider: "aliyun", Status: realname.StatusProcessing, CertType: "IDENTITY_CARD",
				Consent:   realname.Consent{NoticeVersion: realname.NoticeVersion, AcceptedAt: now, Scopes: []string{"id_number", "face"}},
				CreatedAt: now, UpdatedAt: now, Deadline: now.Add(time.Hour)}
			if err := s.InTx(ctx, func(tx realname.Tx) error { return tx.InsertVerification(ctx, v) }); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				err := s.InTx(ctx, func(tx realname.Tx) error {
					cur, err := tx.LockVerification(ctx, v.CertifyID)
					if err != nil {
						return err
					}
					cur.Attempts++
					cur.UpdatedAt = time.Now()
					return tx.UpdateVerification(ctx, cur)
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
