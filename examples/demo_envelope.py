"""Pack a 6201 fee-upload envelope as the institution, unpack it as the center would.

Run with `make demo`.
"""

import json
from decimal import Decimal

import medpay_core as mp

APP_ID = "43AF047BBA47FC8A1AE8EFB232BDBBCB"
APP_SECRET = "4117E877F5FA0A0188891283E4B617D5"

institution_key = mp.SM2PrivateKey.generate()
center_key = mp.SM2PrivateKey.generate()

institution = mp.EnvelopeCodec(
    mp.Credentials(APP_ID, APP_SECRET, institution_key, center_key.public_key())
)
center = mp.EnvelopeCodec(
    mp.Credentials(APP_ID, APP_SECRET, center_key, institution_key.public_key())
)

fee_upload = {
    "orgCodg": "H15020400121",
    "orgId": "H15020400121",
    "psnName": "张三",
    "psnCertType": "01",
    "certno": "150204198912131512",
    "mdtrtCertType": "02",
    "mdtrtCertNo": "150204198912131512",
    "medType": "11",
    "medOrgOrd": "MZ20261125001",
    "feeType": "01",
    "medfeeSumamt": Decimal("128.50"),
    "orgBizSer": "BIZ202611250001",
    "chrgBchno": "CB0001",
    "feedetailList": [
        {
            "feedetlSn": "1",
            "chrgBchno": "CB0001",
            "detItemFeeSumamt": Decimal("128.50"),
            "cnt": Decimal("1.0000"),
            "pric": Decimal("128.500000"),
            "medListCodg": "XA01AAA0000",
            "medinsListCodg": "XA01AAA0000",
            "medinsListName": "布洛芬缓释胶囊",
            "feeOcurTime": "2026-11-25 09:30:00",
        }
    ],
}

body = institution.pack_json(fee_upload, timestamp="1764063000000")  # the bytes to POST
msg = center.unpack(body)
wire = json.loads(body)

print("== 6201 uldFeeInfo: sign text (the appSecret at its end is masked) ==")
print(msg.sign_text.rsplit("&key=", 1)[0] + "&key=" + "*" * 8)
print()
print("== the wire envelope the institution POSTs ==")
for k, v in wire.items():
    shown = v if len(str(v)) <= 96 else f"{str(v)[:96]}… ({len(v)} chars)"
    print(f"  {k}: {shown}")
print()
print("== the center unpacks it: signature verified, data decrypted ==")
print(f"  signed: {msg.signed}")
print(f"  medfeeSumamt: {msg.data['medfeeSumamt']!r} (a Decimal with its literal)")
print(f"  psnName: {msg.data['psnName']}")
print()
reply = center.pack({"payOrdId": "ORD20261125000001", "payToken": "PT0001"}, code=0, message="成功", success=True)
answer = institution.unpack(reply)
print("== the center's signed reply, unpacked by the institution ==")
print(f"  code={answer.code} success={answer.success} message={answer.message}")
print(f"  data={answer.data}")
