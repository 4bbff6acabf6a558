package consent

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/candorhq/candor"
)

// ReceiptVersion is the Kantara Consent Receipt version the payload follows.
const ReceiptVersion = "KI-CR-v1.1.0"

// Receipt is the payload of a consent receipt: the Kantara Consent Receipt
// v1.1 shape (ISO/IEC TS 27560 carries the same fields), with the JWT claims
// iss, sub, iat and jti, and the notice it was given against.
type Receipt struct {
	Version          string           `json:"version"`
	Jurisdiction     string           `json:"jurisdiction"`
	ConsentTimestamp int64            `json:"consentTimestamp"`
	CollectionMethod string           `json:"collectionMethod"`
	ConsentReceiptID string           `json:"consentReceiptID"`
	Language         string           `json:"language"`
	PIIPrincipalID   string           `json:"piiPrincipalId"`
	PIIControllers   []PIIController  `json:"piiControllers"`
	PolicyURL        string           `json:"policyUrl"`
	Services         []ReceiptService `json:"services"`
	Sensitive        bool             `json:"sensitive"`
	SPICat           []string         `json:"spiCat"`
	Notice           ReceiptNotice    `json:"notice"`
	GPC              bool             `json:"gpc,omitempty"`
	Guardian         bool             `json:"guardian,omitempty"`
	Issuer           string           `json:"iss"`
	Subject          string           `json:"sub"`
	IssuedAt         int64            `json:"iat"`
	ID               string           `json:"jti"`
}

// PIIController names the controller in a receipt.
type PIIController struct {
	PIIController string `json:"piiController"`
	Contact       string `json:"contact"`
	Email         string `json:"email,omitempty"`
	Country       string `json:"addressCountry,omitempty"`
	OnBehalf      bool   `json:"onBehalf"`
}

// ReceiptService groups the purposes of a receipt.
type ReceiptService struct {
	Service  string           `json:"service"`
	Purposes []ReceiptPurpose `json:"purposes"`
}

// ReceiptPurpose is one purpose in a receipt and the state the consent set.
type ReceiptPurpose struct {
	Purpose              string   `json:"purpose"`
	PurposeID            string   `json:"purposeId"`
	PurposeCategory      []string `json:"purposeCategory"`
	ConsentType          string   `json:"consentType"`
	State                string   `json:"state"`
	PIICategory          []string `json:"piiCategory"`
	PrimaryPurpose       bool     `json:"primaryPurpose"`
	Termination          string   `json:"termination"`
	ThirdPartyDisclosure bool     `json:"thirdPartyDisclosure"`
	ThirdPartyName       []string `json:"thirdPartyName,omitempty"`
	SeparateConsent      bool     `json:"separateConsent,omitempty"`
}

// ReceiptNotice names the notice version a consent was given against.
type ReceiptNotice struct {
	Version string `json:"version"`
	Hash    string `json:"hash"`
}

func (l *Ledger) receipt(subjectID string, notice candor.StoredNotice, c Choice, res *Result) (string, error) {
	org := l.policy.Organization
	lang := c.Language
	if lang != candor.LangZH {
		lang = candor.LangEN
	}
	r := Receipt{
		Version:          ReceiptVersion,
		Jurisdiction:     strings.Join(org.Jurisdictions, " "),
		ConsentTimestamp: res.At.Unix(),
		CollectionMethod: c.Channel,
		ConsentReceiptID: res.ReceiptID,
		Language:         lang,
		PIIPrincipalID:   subjectID,
		PIIControllers:   []PIIController{{PIIController: org.Name, Contact: org.Contact, Email: org.Contact, Country: org.Country}},
		PolicyURL:        org.PolicyURL,
		Notice:           ReceiptNotice{Version: notice.Version, Hash: notice.Hash},
		GPC:              c.GPC,
		Guardian:         c.Guardian != nil,
		Issuer:           org.Name,
		Subject:          subjectID,
		IssuedAt:         res.At.Unix(),
		ID:               res.ReceiptID,
		SPICat:           []string{},
	}
	svc := ReceiptService{Service: org.Name}
	for _, rec := range res.Records {
		p := l.policy.Purpose(rec.Purpose)
		rp := ReceiptPurpose{
			Purpose: p.Name.In(lang), PurposeID: p.ID, PurposeCategory: []string{p.ID},
			ConsentType: "EXPLICIT", State: string(rec.State), PIICategory: []string{},
			PrimaryPurpose: false, SeparateConsent: p.SeparateConsent,
		}
		if !rec.Explicit {
			rp.ConsentType = "EXPRESSED" // given with "accept all"
		}
		maxRet := candor.Duration(0)
		for _, f := range l.policy.FieldsFor(p.ID) {
			rp.PIICategory = append(rp.PIICategory, f.Category)
			if f.Retention > maxRet {
				maxRet = f.Retention
			}
			if f.Sensitive && rec.State == candor.ConsentGranted {
				r.Sensitive = true
				r.SPICat = append(r.SPICat, f.Category)
			}
		}
		rp.Termination = "until withdrawn; data kept at most " + maxRet.String()
		for _, rc := range l.policy.RecipientsFor(p.ID) {
			rp.ThirdPartyDisclosure = true
			rp.ThirdPartyName = append(rp.ThirdPartyName, rc.Name)
		}
		svc.Purposes = append(svc.Purposes, rp)
	}
	r.Services = []ReceiptService{svc}
	return SignJWS(l.signer, r)
}

// SignJWS signs payload as a compact JWS with EdDSA (Ed25519).
func SignJWS(s candor.Signer, payload any) (string, error) {
	h, _ := json.Marshal(map[string]string{"alg": "EdDSA", "typ": "JWT", "kid": s.KeyID()})
	p, err := json.Marshal(payload)
	if err != nil {
		return "", fmt.Errorf("consent: receipt: %w", err)
	}
	enc := base64.RawURLEncoding
	signing := enc.EncodeToString(h) + "." + enc.EncodeToString(p)
	return signing + "." + enc.EncodeToString(s.Sign([]byte(signing))), nil
}

// VerifyJWS checks a compact JWS signed by [SignJWS] with the public key and
// decodes its payload into v.
func VerifyJWS(token string, pub ed25519.PublicKey, v any) error {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return errors.New("consent: not a compact JWS")
	}
	enc := base64.RawURLEncoding
	var h struct {
		Alg string `json:"alg"`
	}
	hb, err := enc.DecodeString(parts[0])
	if err != nil || json.Unmarshal(hb, &h) != nil || h.Alg != "EdDSA" {
		return errors.New("consent: bad JWS header")
	}
	sig, err := enc.DecodeString(parts[2])
	if err != nil || !ed25519.Verify(pub, []byte(parts[0]+"."+parts[1]), sig) {
		return errors.New("consent: bad JWS signature")
	}
	pb, err := enc.DecodeString(parts[1])
	if err != nil {
		return errors.New("consent: bad JWS payload")
	}
	return json.Unmarshal(pb, v)
}
