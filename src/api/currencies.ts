/**
 * The alphabetic codes of ISO 4217's list one (currencies and funds in use),
 * checked in: workerd's Intl.supportedValuesOf("currency") is ICU's own
 * selection (159 codes here, missing SLE, VED, XAU and others). Taken from
 * Debian's iso-codes 4.15 (/usr/share/iso-codes/json/iso_4217.json), plus
 * ZWG (2024) and XCG (2025), added since. Codes withdrawn since then stay
 * accepted: ISO 4217 still lists them (list three), and a session that used
 * one must stay valid.
 */
const LIST_ONE = `
AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD BTN BWP BYN
BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD
FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HRK HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS
KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN
MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR
SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD
USN UYI UYU UYW UZS VED VES VND VUV WST XAF XAG XAU XBA XBB XBC XBD XCD XCG XDR XOF XPD XPF XPT XSU
XTS XUA XXX YER ZAR ZMW ZWG ZWL
`;

export const ISO_4217_CODES: ReadonlySet<string> = new Set(LIST_ONE.trim().split(/\s+/));

export const DEFAULT_CURRENCY = "USD";
