"""The platform's current supply contract. A new version is a new constant here; contracts
already issued keep the text and version they were issued with."""

from decimal import Decimal

TERMS_VERSION = "2026.1"
COMMISSION_RATE = Decimal("5.00")
VALIDITY_DAYS = 365

FEE_TERMS = (
    "平台按每笔结算金额收取 5% 技术服务费；货款在团期完成（团员确认收货或自动确认）后 T+7 "
    "结算至供应商对公账户。因缺货、破损产生的退款由供应商承担。\n"
    "The platform charges a 5% service fee on each settled amount; payment reaches the "
    "supplier's company account 7 days after the group buy completes. Refunds caused by "
    "shortage or damage are borne by the supplier."
)

TERMS_TEXT = """社区团购平台供货合同 / Community group-buy platform supply contract

1. 供货义务 Supply. 供应商按审核通过的报价（价格、规格、起订量、箱规、每日产能、交货期、
   配送日）向平台上的团长供货，并保证商品信息真实、准确、及时更新。
   The supplier supplies community leaders on the platform on the terms of its approved
   offers (price, specification, minimum order, case size, daily capacity, lead time,
   delivery days) and keeps product information true, accurate and up to date.

2. 质量与食品安全 Quality and food safety. 供应商保证商品符合国家食品安全标准，
   冷藏、冷冻商品全程冷链配送，并提供检验检疫等资质文件。
   Goods meet national food-safety standards; chilled and frozen goods travel in an
   unbroken cold chain; the supplier provides inspection and quarantine documents.

3. 采购与交付 Orders and delivery. 团长下达采购单后，供应商应在约定交货期内备货并
   按时送达，如不能足量供货须立即通知团长；短缺部分由平台自动退款给团员。
   After a leader sends a purchase order the supplier prepares and delivers it within the
   agreed lead time and tells the leader at once of any shortage; shortages are refunded
   to members automatically.

4. 售后 After-sales. 因商品质量问题产生的售后由供应商承担费用。
   After-sales costs caused by product quality are borne by the supplier.

5. 期限与终止 Term and termination. 本合同自签署之日起生效，有效期一年；任何一方违约，
   平台可暂停报价或终止合同。
   This contract takes effect on signature for one year; on breach the platform may
   suspend offers or terminate the contract.
"""
