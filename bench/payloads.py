"""The envelopes a gateway handles most: a 6301 query and a 6201 upload with 30 fee lines,
every optional field filled, as hospitals send them."""

from decimal import Decimal

APP_ID = "1H452H9AR0LO3F60C80A000054C771C6"
APP_SECRET = "1H452H9B30LP3F60C80A0000AB8B7385"


def query_6301() -> dict:
    return {
        "payOrdId": "ord150100202210140931280000007",
        "orgCodg": "H15020400121",
        "payToken": "150000ecb2gfdlm0tg0100007f00004a27f622",
        "idNo": "150204198912131512",
        "userName": "张三",
        "idType": "01",
        "expContent": {"merchantNo": "M0001", "terminalNo": "T0001", "isvNo": "ISV01"},
    }


def fee_line(i: int) -> dict:
    return {
        "feedetlSn": f"FD{i:06d}", "mdtrtId": "MD2026112500001", "psnNo": "P150204000123", "chrgBchno": "CB0001",
        "diseCodg": "J06.900", "rxno": f"RX{i:05d}", "rxCircFlag": "0", "feeOcurTime": "2026-11-25 09:30:00",
        "medListCodg": "XA01AAA0000", "medinsListCodg": "XA01AAA0000", "detItemFeeSumamt": Decimal("12.50"),
        "cnt": Decimal("2.0000"), "pric": Decimal("6.250000"), "sinDosDscr": "0.3g", "usedFrquDscr": "每日两次",
        "prdDays": Decimal("3"), "medcWayDscr": "口服", "bilgDeptCodg": "A03", "bilgDeptName": "内科",
        "bilgDrCodg": "D0001", "bilgDrName": "李医生", "acordDeptCodg": "A03", "acordDeptName": "内科",
        "ordersDrCode": "D0001", "ordersDrName": "李医生", "hospApprFlag": "1", "tcmdrugUsedWay": "1",
        "etipFlag": "0", "etipHospCode": "H15020400121", "dscgTkdrugFlag": "0", "matnFeeFlag": "0",
        "initFeedetlSn": "", "drordNo": f"DR{i:05d}", "medType": "11", "memo": "门诊用药",
        "expContent": "", "medListName": "布洛芬缓释胶囊", "medListSpc": "0.3g*24粒", "combNo": "1",
    }


def upload_6201(lines: int = 30) -> dict:
    return {
        "orgCodg": "H15020400121", "orgId": "H15020400121", "psnNo": "P150204000123", "insutype": "310",
        "medOrgOrd": "MZ20261125000001", "initRxOrd": "", "rxCircFlag": "0", "begntime": "2026-11-25 09:00:00",
        "idNo": "150204198912131512", "userName": "张三", "idType": "01", "ecToken": "EC0123456789abcdef",
        "insuCode": "150200", "iptOtpNo": "MZ0001", "atddrNo": "D0001", "drName": "李医生", "deptCode": "A03",
        "deptName": "内科", "caty": "A03", "mdtrtId": "MD2026112500001", "medType": "11", "feeType": "01",
        "medfeeSumamt": Decimal("12.50") * lines, "acctUsedFlag": "1", "mainCondDscr": "发热咳嗽",
        "diseCodg": "J06.900", "diseName": "急性上呼吸道感染", "psnSetlway": "01", "chrgBchno": "CB0001",
        "pubHospRfomFlag": "0", "invono": "INV0001", "endtime": "2026-11-25 10:00:00",
        "fulamtOwnpayAmt": Decimal("0.00"), "overlmtSelfpay": Decimal("0.00"), "preselfpayAmt": Decimal("0.00"),
        "inscpScpAmt": Decimal("12.50") * lines, "payAuthNo": "AUTH0123456789", "uldLatlnt": "111.75,40.84",
        "mdtrtCertType": "02", "insuplcAdmdvs": "150200",
        "expContent": {"merchantNo": "M0001", "terminalNo": "T0001", "isvNo": "ISV01"},
        "diseinfoList": [
            {"diagType": "1", "diagSrtNo": "1", "diagCode": "J06.900", "diagName": "急性上呼吸道感染",
             "diagDept": "内科", "diseDorNo": "D0001", "diseDorName": "李医生",
             "diagTime": "2026-11-25 09:10:00", "valiFlag": "1"}
        ],
        "feedetailList": [fee_line(i) for i in range(lines)],
    }
