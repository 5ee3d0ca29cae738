-- WeChat Pay refund callbacks (issue 19) are kept beside payment
-- notifications, as evidence, with source 'refund_notify' (order_no and
-- trade_no of the refunded trade, trade_status the refund's status).
ALTER TABLE payment_notifications
  MODIFY source ENUM('notify','query','refund_notify') NOT NULL DEFAULT 'notify';
